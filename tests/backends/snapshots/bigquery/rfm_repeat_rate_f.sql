SELECT
  `t11`.`f_score`,
  `t11`.`customers`,
  `t11`.`repeat_customers`,
  `t11`.`next_revenue`,
  ieee_divide(
    CAST(FLOOR(
      (
        ieee_divide(CAST(`t11`.`repeat_customers` AS FLOAT64), NULLIF(`t11`.`customers`, 0)) * 10000
      ) + 0.5
    ) AS INT64),
    10000
  ) AS `repeat_rate`
FROM (
  SELECT
    `t10`.`f_score`,
    COUNT(`t10`.`customer_id`) AS `customers`,
    COUNT(`t10`.`next_orders`) AS `repeat_customers`,
    COALESCE(SUM(`t10`.`next_revenue`), 0) AS `next_revenue`
  FROM (
    SELECT
      `t9`.`customer_id`,
      `t9`.`f_score`,
      `t5`.`customer_id` AS `customer_id_right`,
      `t5`.`next_orders`,
      `t5`.`next_revenue`
    FROM (
      SELECT
        `t7`.`customer_id`,
        `t7`.`f_score`
      FROM (
        SELECT
          `t6`.`customer_id`,
          `t6`.`last_order`,
          `t6`.`frequency`,
          `t6`.`monetary`,
          `t6`.`recency_days`,
          1 + IF(`t6`.`recency_days` <= 30, 1, 0) + IF(`t6`.`recency_days` <= 60, 1, 0) + IF(`t6`.`recency_days` <= 90, 1, 0) + IF(`t6`.`recency_days` <= 180, 1, 0) AS `r_score`,
          1 + IF(`t6`.`frequency` >= 2, 1, 0) + IF(`t6`.`frequency` >= 3, 1, 0) + IF(`t6`.`frequency` >= 5, 1, 0) + IF(`t6`.`frequency` >= 10, 1, 0) AS `f_score`,
          1 + IF(`t6`.`monetary` >= 10000, 1, 0) + IF(`t6`.`monetary` >= 30000, 1, 0) + IF(`t6`.`monetary` >= 50000, 1, 0) + IF(`t6`.`monetary` >= 100000, 1, 0) AS `m_score`
        FROM (
          SELECT
            `t3`.`customer_id`,
            `t3`.`last_order`,
            `t3`.`frequency`,
            `t3`.`monetary`,
            DATE_DIFF(DATE(2026, 8, 2), `t3`.`last_order`, DAY) AS `recency_days`
          FROM (
            SELECT
              `t1`.`customer_id`,
              MAX(`t1`.`order_date`) AS `last_order`,
              COUNT(*) AS `frequency`,
              SUM(`t1`.`total`) AS `monetary`
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
                AND `t0`.`ordered_at` < DATETIME('2026-08-02T15:00:00')
            ) AS `t1`
            GROUP BY
              1
          ) AS `t3`
        ) AS `t6`
      ) AS `t7`
    ) AS `t9`
    LEFT OUTER JOIN (
      SELECT
        `t2`.`customer_id`,
        COUNT(`t2`.`order_id`) AS `next_orders`,
        SUM(`t2`.`total`) AS `next_revenue`
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
          AND DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) > DATE(2026, 8, 2)
          AND DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
      ) AS `t2`
      GROUP BY
        1
    ) AS `t5`
      ON `t9`.`customer_id` = `t5`.`customer_id`
  ) AS `t10`
  GROUP BY
    1
) AS `t11`
ORDER BY
  `t11`.`f_score` ASC NULLS LAST
