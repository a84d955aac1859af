SELECT
  *
FROM (
  SELECT
    `t3`.`customer_id`,
    `t3`.`orders`,
    `t3`.`revenue`,
    `t3`.`first_order`,
    `t3`.`last_order`,
    `t3`.`recency_days`,
    `t3`.`mean_interval_days`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(CAST(`t3`.`recency_days` AS FLOAT64), NULLIF(`t3`.`mean_interval_days`, 0)) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `risk_ratio`
  FROM (
    SELECT
      `t2`.`customer_id`,
      `t2`.`orders`,
      `t2`.`revenue`,
      `t2`.`first_order`,
      `t2`.`last_order`,
      DATE_DIFF(DATE(2026, 10, 31), `t2`.`last_order`, DAY) AS `recency_days`,
      ieee_divide(
        CAST(FLOOR(
          (
            ieee_divide(
              CAST(DATE_DIFF(`t2`.`last_order`, `t2`.`first_order`, DAY) AS FLOAT64),
              `t2`.`orders` - 1
            ) * 100
          ) + 0.5
        ) AS INT64),
        100
      ) AS `mean_interval_days`
    FROM (
      SELECT
        `t1`.`customer_id`,
        COUNT(`t1`.`order_id`) AS `orders`,
        SUM(`t1`.`total`) AS `revenue`,
        MIN(`t1`.`order_date`) AS `first_order`,
        MAX(`t1`.`order_date`) AS `last_order`
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
          AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
      ) AS `t1`
      GROUP BY
        1
    ) AS `t2`
    WHERE
      `t2`.`orders` >= 2
  ) AS `t3`
  WHERE
    `t3`.`mean_interval_days` > 0
    AND `t3`.`recency_days` > (
      `t3`.`mean_interval_days` * 2.0
    )
) AS `t4`
ORDER BY
  `t4`.`risk_ratio` DESC,
  `t4`.`customer_id` ASC NULLS LAST
