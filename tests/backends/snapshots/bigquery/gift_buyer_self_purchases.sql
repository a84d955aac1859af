SELECT
  *
FROM (
  SELECT
    `t25`.`category`,
    `t25`.`buyers`,
    `t25`.`orders`,
    `t25`.`revenue`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t25`.`revenue` AS FLOAT64),
            NULLIF(
              SUM(`t25`.`revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `revenue_share`
  FROM (
    SELECT
      `t24`.`category`,
      COUNT(DISTINCT `t24`.`customer_id`) AS `buyers`,
      COUNT(DISTINCT `t24`.`order_id`) AS `orders`,
      SUM(`t24`.`amount`) AS `revenue`
    FROM (
      SELECT
        `t3`.`order_id`,
        `t3`.`line_no`,
        `t3`.`product_id`,
        `t3`.`quantity`,
        `t3`.`amount`,
        COALESCE(COALESCE(`t3`.`category`, `t6`.`master_category`), '(未分類)') AS `category`,
        `t23`.`customer_id`,
        `t23`.`ordered_at`,
        `t23`.`order_date`
      FROM `order_items` AS `t3`
      LEFT OUTER JOIN (
        SELECT
          `t1`.`product_id`,
          `t1`.`category` AS `master_category`
        FROM `products` AS `t1`
      ) AS `t6`
        ON `t3`.`product_id` = `t6`.`product_id`
      INNER JOIN (
        SELECT
          `t21`.`order_id`,
          `t21`.`customer_id`,
          `t21`.`ordered_at`,
          `t21`.`order_date`
        FROM (
          SELECT
            `t20`.*
            EXCEPT (`buyer`)
          FROM (
            SELECT
              `t19`.`order_id`,
              `t19`.`customer_id`,
              `t19`.`ordered_at`,
              `t19`.`status`,
              `t19`.`channel`,
              `t19`.`subtotal`,
              `t19`.`discount`,
              `t19`.`shipping_fee`,
              `t19`.`points_used`,
              `t19`.`total`,
              `t19`.`points_earned`,
              `t19`.`coupon_code`,
              `t19`.`subscription_id`,
              `t19`.`payment_method`,
              `t19`.`shipping_prefecture`,
              `t19`.`is_gift`,
              `t19`.`order_date`,
              `t19`.`has_gift_item`,
              `t19`.`is_gift_purchase`,
              `t18`.`buyer`
            FROM (
              SELECT
                `t15`.`order_id`,
                `t15`.`customer_id`,
                `t15`.`ordered_at`,
                `t15`.`status`,
                `t15`.`channel`,
                `t15`.`subtotal`,
                `t15`.`discount`,
                `t15`.`shipping_fee`,
                `t15`.`points_used`,
                `t15`.`total`,
                `t15`.`points_earned`,
                `t15`.`coupon_code`,
                `t15`.`subscription_id`,
                `t15`.`payment_method`,
                `t15`.`shipping_prefecture`,
                `t15`.`is_gift`,
                `t15`.`order_date`,
                `t15`.`has_gift_item`,
                `t15`.`is_gift` OR (
                  `t15`.`has_gift_item` IS NOT NULL
                ) AS `is_gift_purchase`
              FROM (
                SELECT
                  `t14`.*
                  EXCEPT (`order_id_right`)
                FROM (
                  SELECT
                    `t9`.`order_id`,
                    `t9`.`customer_id`,
                    `t9`.`ordered_at`,
                    `t9`.`status`,
                    `t9`.`channel`,
                    `t9`.`subtotal`,
                    `t9`.`discount`,
                    `t9`.`shipping_fee`,
                    `t9`.`points_used`,
                    `t9`.`total`,
                    `t9`.`points_earned`,
                    `t9`.`coupon_code`,
                    `t9`.`subscription_id`,
                    `t9`.`payment_method`,
                    `t9`.`shipping_prefecture`,
                    `t9`.`is_gift`,
                    `t9`.`order_date`,
                    `t13`.`order_id` AS `order_id_right`,
                    `t13`.`has_gift_item`
                  FROM (
                    SELECT
                      `t2`.`order_id`,
                      `t2`.`customer_id`,
                      `t2`.`ordered_at`,
                      `t2`.`status`,
                      `t2`.`channel`,
                      `t2`.`subtotal`,
                      `t2`.`discount`,
                      `t2`.`shipping_fee`,
                      `t2`.`points_used`,
                      `t2`.`total`,
                      `t2`.`points_earned`,
                      `t2`.`coupon_code`,
                      `t2`.`subscription_id`,
                      `t2`.`payment_method`,
                      `t2`.`shipping_prefecture`,
                      `t2`.`is_gift`,
                      DATE(TIMESTAMP_ADD(`t2`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
                    FROM `orders` AS `t2`
                    WHERE
                      `t2`.`status` = 'completed'
                      AND `t2`.`customer_id` IS NOT NULL
                      AND `t2`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
                  ) AS `t9`
                  LEFT OUTER JOIN (
                    SELECT
                      `t11`.`order_id`,
                      1 AS `has_gift_item`
                    FROM (
                      SELECT DISTINCT
                        *
                      FROM (
                        SELECT
                          `t3`.`order_id`
                        FROM `order_items` AS `t3`
                        INNER JOIN (
                          SELECT
                            `t1`.`product_id`
                          FROM `products` AS `t1`
                          WHERE
                            `t1`.`is_gift`
                        ) AS `t7`
                          ON `t3`.`product_id` = `t7`.`product_id`
                      ) AS `t10`
                    ) AS `t11`
                  ) AS `t13`
                    ON `t9`.`order_id` = `t13`.`order_id`
                ) AS `t14`
              ) AS `t15`
              WHERE
                NOT (
                  `t15`.`is_gift` OR (
                    `t15`.`has_gift_item` IS NOT NULL
                  )
                )
            ) AS `t19`
            INNER JOIN (
              SELECT DISTINCT
                `t15`.`customer_id` AS `buyer`
              FROM (
                SELECT
                  `t14`.*
                  EXCEPT (`order_id_right`)
                FROM (
                  SELECT
                    `t9`.`order_id`,
                    `t9`.`customer_id`,
                    `t9`.`ordered_at`,
                    `t9`.`status`,
                    `t9`.`channel`,
                    `t9`.`subtotal`,
                    `t9`.`discount`,
                    `t9`.`shipping_fee`,
                    `t9`.`points_used`,
                    `t9`.`total`,
                    `t9`.`points_earned`,
                    `t9`.`coupon_code`,
                    `t9`.`subscription_id`,
                    `t9`.`payment_method`,
                    `t9`.`shipping_prefecture`,
                    `t9`.`is_gift`,
                    `t9`.`order_date`,
                    `t13`.`order_id` AS `order_id_right`,
                    `t13`.`has_gift_item`
                  FROM (
                    SELECT
                      `t2`.`order_id`,
                      `t2`.`customer_id`,
                      `t2`.`ordered_at`,
                      `t2`.`status`,
                      `t2`.`channel`,
                      `t2`.`subtotal`,
                      `t2`.`discount`,
                      `t2`.`shipping_fee`,
                      `t2`.`points_used`,
                      `t2`.`total`,
                      `t2`.`points_earned`,
                      `t2`.`coupon_code`,
                      `t2`.`subscription_id`,
                      `t2`.`payment_method`,
                      `t2`.`shipping_prefecture`,
                      `t2`.`is_gift`,
                      DATE(TIMESTAMP_ADD(`t2`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
                    FROM `orders` AS `t2`
                    WHERE
                      `t2`.`status` = 'completed'
                      AND `t2`.`customer_id` IS NOT NULL
                      AND `t2`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
                  ) AS `t9`
                  LEFT OUTER JOIN (
                    SELECT
                      `t11`.`order_id`,
                      1 AS `has_gift_item`
                    FROM (
                      SELECT DISTINCT
                        *
                      FROM (
                        SELECT
                          `t3`.`order_id`
                        FROM `order_items` AS `t3`
                        INNER JOIN (
                          SELECT
                            `t1`.`product_id`
                          FROM `products` AS `t1`
                          WHERE
                            `t1`.`is_gift`
                        ) AS `t7`
                          ON `t3`.`product_id` = `t7`.`product_id`
                      ) AS `t10`
                    ) AS `t11`
                  ) AS `t13`
                    ON `t9`.`order_id` = `t13`.`order_id`
                ) AS `t14`
              ) AS `t15`
              WHERE
                `t15`.`is_gift` OR (
                  `t15`.`has_gift_item` IS NOT NULL
                )
            ) AS `t18`
              ON `t19`.`customer_id` = `t18`.`buyer`
          ) AS `t20`
        ) AS `t21`
      ) AS `t23`
        ON `t3`.`order_id` = `t23`.`order_id`
    ) AS `t24`
    GROUP BY
      1
  ) AS `t25`
) AS `t26`
ORDER BY
  `t26`.`revenue` DESC,
  `t26`.`category` ASC NULLS LAST
