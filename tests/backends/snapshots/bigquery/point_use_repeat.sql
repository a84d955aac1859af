SELECT
  `t9`.`point_use`,
  `t9`.`customers`,
  `t9`.`repeat_customers`,
  `t9`.`orders`,
  `t9`.`revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t9`.`repeat_customers` AS FLOAT64), NULLIF(`t9`.`customers`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `repeat_rate`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t9`.`orders` AS FLOAT64), NULLIF(`t9`.`customers`, 0)) * 100
      ) + 0.5
    ) AS INT64),
    100
  ) AS `orders_per_customer`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t9`.`revenue` AS FLOAT64), NULLIF(`t9`.`customers`, 0)) * 1
      ) + 0.5
    ) AS INT64),
    1
  ) AS `revenue_per_customer`
FROM (
  SELECT
    `t8`.`point_use`,
    COUNT(`t8`.`customer_id`) AS `customers`,
    SUM(IF(`t8`.`orders` >= 2, 1, 0)) AS `repeat_customers`,
    SUM(`t8`.`orders`) AS `orders`,
    SUM(`t8`.`revenue`) AS `revenue`
  FROM (
    SELECT
      `t7`.`customer_id`,
      `t7`.`orders`,
      `t7`.`revenue`,
      `t7`.`user`,
      IF(`t7`.`user` IS NOT NULL, 'used', 'never_used') AS `point_use`
    FROM (
      SELECT
        `t6`.`customer_id`,
        `t6`.`orders`,
        `t6`.`revenue`,
        `t4`.`user`
      FROM (
        SELECT
          `t2`.`customer_id`,
          COUNT(`t2`.`order_id`) AS `orders`,
          SUM(`t2`.`total`) AS `revenue`
        FROM (
          SELECT
            `t0`.`order_id`,
            `t0`.`customer_id`,
            `t0`.`ordered_at`,
            `t0`.`status`,
            `t0`.`channel`,
            `t0`.`subtotal`,
            `t0`.`discount`,
            `t0`.`shipping_fee`,
            `t0`.`points_used`,
            `t0`.`total`,
            `t0`.`points_earned`,
            `t0`.`coupon_code`,
            `t0`.`subscription_id`,
            `t0`.`payment_method`,
            `t0`.`shipping_prefecture`,
            `t0`.`is_gift`,
            DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
          FROM `orders` AS `t0`
          WHERE
            `t0`.`status` = 'completed'
            AND `t0`.`customer_id` IS NOT NULL
            AND DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
        ) AS `t2`
        GROUP BY
          1
      ) AS `t6`
      LEFT OUTER JOIN (
        SELECT DISTINCT
          `t1`.`customer_id` AS `user`
        FROM `point_transactions` AS `t1`
        WHERE
          `t1`.`kind` = 'use'
          AND DATE(TIMESTAMP_ADD(`t1`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
      ) AS `t4`
        ON `t6`.`customer_id` = `t4`.`user`
    ) AS `t7`
  ) AS `t8`
  GROUP BY
    1
) AS `t9`
ORDER BY
  `t9`.`point_use` ASC NULLS LAST
